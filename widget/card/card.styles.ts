import { css } from 'lit'

/** Fixed heights everywhere: the card takes its final size before any data arrives. */
export const cardStyles = css`
  :host {
    display: inline-block;
    vertical-align: top;
    width: var(--pricewire-card-width, 16rem);
    font-size: 14px;
    line-height: 1.5rem;
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
    height: 17.5rem;
  }
  .hd,
  .pr {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    white-space: nowrap;
  }
  .pr {
    height: 2.5rem;
  }
  .logo {
    flex: none;
    width: 1.5rem;
    height: 1.5rem;
    border-radius: 50%;
    text-align: center;
    font-weight: 700;
    color: var(--bg);
    background: var(--fg);
  }
  .nm {
    flex: 1;
    font-weight: 600;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .nm .m {
    font-weight: 400;
  }
  .p {
    font-size: 1.5rem;
    font-weight: 650;
  }
  /* a long price and change: smaller, so both fit the width */
  .l {
    font-size: 1.25rem;
  }
  .spark,
  .chart {
    display: block;
    height: 2.5rem;
  }
  svg {
    width: 100%;
    height: 100%;
  }
  path {
    fill: none;
    stroke: currentColor;
    stroke-width: 1.5;
    vector-effect: non-scaling-stroke;
  }
  .area {
    fill: currentColor;
    fill-opacity: 0.12;
    stroke: none;
  }
  .range {
    margin-left: auto;
  }
  button {
    font: inherit;
    color: var(--mu);
    background: none;
    border: 1px solid var(--bd);
    border-radius: 0.4rem;
  }
  [aria-pressed='true'] {
    color: var(--bg);
    background: var(--fg);
  }
  .chart {
    position: relative;
    height: 11rem;
    margin-top: 0.5rem;
    touch-action: pan-y;
  }
  .x {
    stroke: var(--mu);
    stroke-dasharray: 3;
  }
  .dot {
    stroke-width: 8;
    stroke-linecap: round;
  }
  .tip {
    position: absolute;
    top: 0;
    padding: 0 0.5rem;
    background: var(--bg);
    border: 1px solid var(--bd);
    border-radius: 0.4rem;
  }
  .hd .sk:last-child {
    width: 8rem;
  }
  .pr .sk {
    width: 6rem;
  }
`
