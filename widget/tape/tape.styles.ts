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
  }
  .vp {
    height: 100%;
    overflow: hidden;
    white-space: nowrap;
  }
  .vp:focus-visible {
    outline: 2px solid var(--fg);
    outline-offset: -2px;
  }
  .tr {
    display: flex;
    width: max-content;
    animation: scroll 30s linear infinite;
  }
  .vp:hover .tr,
  .vp:focus-within .tr {
    animation-play-state: paused;
  }
  ul {
    display: flex;
    margin: 0;
    padding: 0;
    list-style: none;
  }
  li {
    display: flex;
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
  .err {
    padding: 0 1rem;
    color: var(--mu);
  }
  @keyframes scroll {
    to {
      transform: translateX(calc(-100% / var(--k, 2)));
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .tr {
      animation: none;
    }
    .vp {
      overflow-x: auto;
    }
    [aria-hidden='true'] {
      display: none;
    }
  }
`
