import { css } from 'lit'

/**
 * The public theme: every colour comes from a --pricewire-* custom property with a light and a
 * dark default (light-dark() follows color-scheme, which the theme attribute sets).
 * Defaults meet WCAG AA contrast on their own backgrounds.
 */
export const themeStyles = css`
  :host {
    color-scheme: light dark;
    --bg: var(--pricewire-bg, light-dark(#fff, #111827));
    --fg: var(--pricewire-fg, light-dark(#111827, #f9fafb));
    --mu: var(--pricewire-muted, light-dark(#4b5563, #9ca3af));
    --bd: var(--pricewire-border, light-dark(#d1d5db, #374151));
    --up: var(--pricewire-up, light-dark(#047857, #34d399));
    --dn: var(--pricewire-down, light-dark(#b91c1c, #f87171));
    --sk: var(--pricewire-skeleton, light-dark(#e5e7eb, #374151));
    color: var(--fg);
    font-family: var(--pricewire-font, system-ui, sans-serif);
    font-variant-numeric: tabular-nums;
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  .up {
    color: var(--up);
  }
  .dn {
    color: var(--dn);
  }
  .tag {
    font-size: 0.75em;
    color: var(--mu);
    border: 1px solid var(--bd);
    border-radius: 1em;
    padding: 0 0.5em;
    white-space: nowrap;
  }
  .sr {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .sk {
    display: inline-block;
    background: var(--sk);
    border-radius: 0.25em;
    animation: pulse 1.5s ease-in-out infinite;
  }
  .fu {
    animation: fu 1s;
  }
  .fd {
    animation: fd 1s;
  }
  @keyframes pulse {
    50% {
      opacity: 0.5;
    }
  }
  @keyframes fu {
    from {
      background: var(--pricewire-flash-up, light-dark(#a7f3d0, #065f46));
    }
  }
  @keyframes fd {
    from {
      background: var(--pricewire-flash-down, light-dark(#fecaca, #7f1d1d));
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .sk,
    .fu,
    .fd {
      animation: none;
    }
  }
`
