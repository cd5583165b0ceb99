import { css } from 'lit'

/**
 * Inline text with its own background (so its colours keep their contrast on any page).
 * Each value box has a minimum width, the same before and after data, so the sentence around
 * the badge does not move when prices arrive or change.
 */
export const badgeStyles = css`
  :host {
    --bg: var(--pricewire-bg, light-dark(#f3f4f6, #1f2937));
    display: inline;
  }
  .b {
    padding: 0.1em 0.4em;
    background: var(--bg);
    border-radius: var(--pricewire-radius, 0.3em);
    box-decoration-break: clone;
  }
  .v {
    display: inline-block;
    text-indent: 0;
  }
  .price {
    min-width: 12ch;
  }
  .change {
    min-width: 8ch;
  }
  .volatility {
    min-width: 5ch;
  }
  .marketcap,
  .volume {
    min-width: 8ch;
  }
  [part='symbol'] {
    unicode-bidi: isolate;
  }
  .note [part='symbol'] {
    text-decoration: underline dotted;
  }
  .sk {
    width: 100%;
    height: 0.9em;
    vertical-align: -0.1em;
  }
`
