/**
 * A minimal PDF 1.4 writer for text reports: A4 pages of Helvetica lines (bold for headings), with a page
 * number footer. Enough for an auditor's printable report without a browser or a native dependency.
 */

export interface PdfLine { text: string; bold?: boolean; size?: number }

const W = 595;
const H = 842;
const MARGIN = 48;

/** PDF literal string in WinAnsi: escapes, and characters outside Latin-1 replaced. */
function lit(s: string): string {
  const mapped = s.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/[\u2013\u2014]/g, '-').replace(/\u2026/g, '...').replace(/\u00b7/g, '.');
  let out = '';
  for (const ch of mapped) {
    const c = ch.codePointAt(0)!;
    if (ch === '(' || ch === ')' || ch === '\\') out += `\\${ch}`;
    else if (c < 32 || c > 255) out += '?';
    else if (c > 126) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `(${out})`;
}

/** Wraps a line at roughly `max` characters (Helvetica averages ~0.5 em). */
function wrap(l: PdfLine): PdfLine[] {
  const size = l.size ?? 9;
  const max = Math.floor((W - 2 * MARGIN) / (size * 0.5));
  if (l.text.length <= max) return [l];
  const out: PdfLine[] = [];
  let rest = l.text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    out.push({ ...l, text: rest.slice(0, cut) });
    rest = `    ${rest.slice(cut).trimStart()}`;
  }
  out.push({ ...l, text: rest });
  return out;
}

export function renderPdf(title: string, lines: PdfLine[]): Buffer {
  const pages: string[] = [];
  let ops: string[] = [];
  let y = H - MARGIN;
  const flush = () => {
    pages.push(ops.join('\n'));
    ops = [];
    y = H - MARGIN;
  };
  for (const l of lines.flatMap(wrap)) {
    const size = l.size ?? 9;
    const lead = size * 1.35;
    if (y - lead < MARGIN + 20) flush();
    y -= lead;
    ops.push(`BT /${l.bold ? 'F2' : 'F1'} ${size} Tf ${MARGIN} ${y.toFixed(1)} Td ${lit(l.text)} Tj ET`);
  }
  if (ops.length || pages.length === 0) flush();
  const objects: string[] = [];
  const add = (body: string) => { objects.push(body); return objects.length; };
  const catalog = add('');
  const pagesObj = add('');
  const f1 = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const f2 = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  const info = add(`<< /Title ${lit(title)} /Producer (Vigil) >>`);
  const kids: number[] = [];
  pages.forEach((content, i) => {
    const footer = `BT /F1 8 Tf ${MARGIN} ${MARGIN - 16} Td ${lit(`${title} - page ${i + 1} of ${pages.length}`)} Tj ET`;
    const stream = `${content}\n${footer}`;
    const c = add(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
    kids.push(add(`<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 ${W} ${H}] /Resources << /Font << /F1 ${f1} 0 R /F2 ${f2} 0 R >> >> /Contents ${c} 0 R >>`));
  });
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let pdf = '%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}
