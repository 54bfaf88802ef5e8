// Terminal text of the CLI's tools: lines that fit 100 columns, prices and sizes in one format, and
// colour (ANSI SGR) only when the output is a terminal.

/** Every line the tools print fits this many columns. */
export const WIDTH = 100;

/** Words of `text` on lines of at most `width` columns, every line after the first indented by `indent`; a word longer than a line is cut. */
export function wrap(text: string, indent = '', width = WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const lead = lines.length === 0 ? '' : indent;
    if (line !== '' && lead.length + line.length + 1 + word.length > width) {
      lines.push(lead + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push((lines.length === 0 ? '' : indent) + line);
  return lines.map((l) => (l.length > width ? l.slice(0, width) : l));
}

/** USD per hour to 4 places ("98.3200"). */
export const usd = (n: number): string => n.toFixed(4);

/** MiB as GiB, without a fraction when it has none ("2048Gi", "0.5Gi"). */
export const gib = (mib: number): string => `${Number((mib / 1024).toFixed(1))}Gi`;

export type Paint = (style: 'bold' | 'red' | 'green' | 'dim', text: string) => string;

const SGR: Readonly<Record<Parameters<Paint>[0], string>> = { bold: '1', red: '31', green: '32', dim: '2' };

/** Colours when `tty` is true; the text unchanged otherwise. */
export function painter(tty: boolean): Paint {
  return tty ? (style, text) => `\u001b[${SGR[style]}m${text}\u001b[0m` : (_style, text) => text;
}

/** The first line (a table's header) in bold. */
export function boldHeader(table: string, paint: Paint): string {
  const nl = table.indexOf('\n');
  return nl < 0 ? paint('bold', table) : paint('bold', table.slice(0, nl)) + table.slice(nl);
}

/** Lines longer than `width` cut to it, ending in "…" (a table whose cells are wider than usual still fits). */
export function fit(text: string, width = WIDTH): string {
  return text.split('\n').map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
}
