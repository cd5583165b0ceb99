import { css } from 'lit'

/** Fixed heights everywhere: the card takes its final size before any data arrives. */
export const cardStyles = css`
  :host {
    display: inline-block;
    vertical-align: top;
    width: var(--pricewire-card-width, 16rem);
    font-size: 14px;
    line-height: 1.25rem;
  }
  :host([variant='chart']) {
    width: var(--pricewire-card-width, 24rem);
  }
  .card {
    position: relative;
    box-sizing: border-box;
    height: 8.5rem;
    padding: 0.75rem 1rem;
    background: var(--bg);
    border: 1px solid var(--bd);
    border-radius: var(--pricewire-radius, 0.75rem);
    overflow: hidden;
  }
  :host([variant='chart']) .card {
    height: 17rem;
  }
  .hd,
  .pr {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    height: 1.5rem;
    white-space: nowrap;
  }
  .pr {
    height: 2.5rem;
    align-items: baseline;
  }
  .logo {
    flex: none;
    width: 1.5rem;
    height: 1.5rem;
    border-radius: 50%;
  }
  .nm {
    flex: 1;
    font-weight: 600;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .nm span {
    font-weight: 400;
    color: var(--mu);
  }
  .p {
    font-size: 1.5rem;
    line-height: 2.5rem;
    font-weight: 650;
    border-radius: 0.25rem;
  }
  .chg {
    font-weight: 500;
  }
  .spark {
    display: block;
    width: 100%;
    height: 2.5rem;
    margin-top: 0.25rem;
  }
  path {
    fill: none;
    stroke: currentColor;
    stroke-width: 1.5;
    vector-effect: non-scaling-stroke;
    stroke-linejoin: round;
  }
  .area {
    fill: currentColor;
    fill-opacity: 0.12;
    stroke: none;
  }
  .range {
    margin-left: auto;
    display: flex;
    gap: 0.25rem;
  }
  button {
    font: inherit;
    font-size: 0.85em;
    color: var(--mu);
    background: none;
    border: 1px solid var(--bd);
    border-radius: 0.375rem;
    padding: 0 0.5rem;
    cursor: pointer;
  }
  button[aria-pressed='true'] {
    color: var(--bg);
    background: var(--fg);
    border-color: var(--fg);
  }
  .chart {
    display: block;
    position: relative;
    height: 11rem;
    margin-top: 0.5rem;
    touch-action: pan-y;
    outline-offset: 2px;
  }
  .chart svg {
    display: block;
    width: 100%;
    height: 100%;
  }
  .x {
    stroke: var(--mu);
    stroke-width: 1;
    stroke-dasharray: 3 3;
  }
  .dot {
    stroke-width: 8;
    stroke-linecap: round;
  }
  .tip {
    position: absolute;
    top: 0;
    padding: 0.125rem 0.5rem;
    font-size: 0.85em;
    background: var(--bg);
    border: 1px solid var(--bd);
    border-radius: 0.375rem;
    white-space: nowrap;
    pointer-events: none;
  }
  .hd .sk:last-child {
    width: 8rem;
  }
  .pr .sk {
    width: 6rem;
    line-height: 1.75rem;
  }
  .err {
    margin: 0.5rem 0 0;
    color: var(--mu);
  }
`
