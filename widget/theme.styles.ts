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
  .m,
  .tag {
    color: var(--mu);
  }
  .tag {
    font-size: 0.75em;
    border: 1px solid var(--bd);
    border-radius: 1em;
    padding: 0 0.5em;
    line-height: 1.5;
  }
  .sr {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
  }
  .sk {
    display: inline-block;
    background: var(--pricewire-skeleton, var(--bd));
    border-radius: 0.25em;
    animation: pulse 1.5s infinite;
  }
  .fu,
  .fd {
    animation: flash 1s;
  }
  .fu {
    --f: var(--up);
  }
  .fd {
    --f: var(--dn);
  }
  @keyframes pulse {
    50% {
      opacity: 0.5;
    }
  }
  @keyframes flash {
    from {
      background: color-mix(in srgb, var(--f) 30%, transparent);
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
