// The text of `orca validate`: per pod, "valid" with the offerings ORCA would try in order and the
// price ceiling, or "invalid" with each problem on its own line; every line within 100 columns.
import type { OfferingLine, Verdict } from './cli-validate.js';
import { boldHeader, fit, usd, wrap, type Paint } from './cli-text.js';
import { alignedTable } from './reports/text.js';

const HEADER = ['#', 'TYPE', 'CAPACITY', 'ZONE', 'SUBNET', 'USD/H', 'ACCELERATORS'];

function priceCell(l: OfferingLine): string {
  return l.price === 'spot-ceiling' ? `<=${usd(l.usdPerHour)}` : usd(l.usdPerHour);
}

const capacityCell = (l: OfferingLine): string => (l.reservationId === undefined ? l.capacity : `${l.capacity} ${l.reservationId}`);

function offeringTable(lines: readonly OfferingLine[], paint: Paint): string {
  const rows = lines.map((l, i) => [String(i + 1), l.type, capacityCell(l), l.zone, l.subnet, priceCell(l), l.accelerators]);
  const table = alignedTable(HEADER, rows, new Set([0, 5])).split('\n').map((l) => (l === '' ? l : `  ${l}`)).join('\n');
  return boldHeader(fit(table), paint);
}

/** "Job ns/name (pod template): ", cut to leave room for the verdict. */
const head = (v: Verdict): string => `${fit(v.source, 90)}: `;

function verdictText(v: Verdict, paint: Paint): string {
  if (!v.ok) {
    const problems = v.problems.flatMap((p) => wrap(p, '  ', 96).map((l, i) => (i === 0 ? `  ${paint('red', 'x')} ${l}` : `  ${l}`)));
    return `${head(v)}${paint('red', 'invalid')}\n${problems.join('\n')}\n`;
  }
  const ceiling = wrap(`price ceiling: ${usd(v.ceilingUsdPerHour)} USD/h (the dearest offering at its ceiling: what its budget reserves for each hour)`, '  ', 98);
  const notes = v.notes.flatMap((n) => wrap(n, '  ', 98));
  return [
    `${head(v)}${paint('green', 'valid')}`,
    `  ORCA would try ${v.offerings.length} offering${v.offerings.length === 1 ? '' : 's'}, in this order:`,
    offeringTable(v.offerings, paint).trimEnd(),
    ...ceiling.map((l) => `  ${l}`),
    ...notes.map((l) => `  ${paint('dim', l)}`),
  ].join('\n').concat('\n');
}

/** Every pod's verdict, then the documents that hold no pod. */
export function renderVerdicts(verdicts: readonly Verdict[], skipped: readonly string[], paint: Paint): string {
  const tail = skipped.length === 0 ? [] : wrap(`not checked (no pod template): ${skipped.join(', ')}`, '  ');
  return [...verdicts.map((v) => verdictText(v, paint)), ...tail.map((l) => `${l}\n`)].join('\n');
}
