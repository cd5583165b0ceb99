import { css } from 'lit'

/**
 * The track holds the list and enough aria-hidden copies to fill the width; it slides by one copy
 * (100% / --k, where --k is the number of lists) and starts over, so the loop has no seam.
 */
export const tapeStyles = css`
  :host {
    display: block;
    height: 2.5rem;
    font-size: 14px;
    line-height: 2.5rem;
    background: var(--bg);
    border-block: 1px solid var(--bd);
    overflow: hidden;
    white-space: nowrap;
  }
  .vp {
    height: 100%;
    overflow: hidden;
  }
  .vp:focus-visible {
    outline: 2px solid;
    outline-offset: -2px;
  }
  .tr,
  ul,
  li {
    display: flex;
    margin: 0;
    padding: 0;
  }
  .tr {
    width: max-content;
    animation: scroll 30s linear infinite;
  }
  .vp:hover .tr,
  .vp:focus-within .tr {
    animation-play-state: paused;
  }
  li {
    align-items: center;
    gap: 0.4rem;
    padding: 0 1rem;
  }
  .sym {
    font-weight: 600;
  }
  .sk {
    width: 12rem;
    height: 1rem;
    margin: 0.75rem 1rem;
  }
  @keyframes scroll {
    to {
      transform: translateX(calc(-100% / var(--k)));
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .tr {
      animation: none;
    }
    .vp {
      overflow-x: auto;
    }
    ul[aria-hidden] {
      display: none;
    }
  }
`
