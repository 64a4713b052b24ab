/**
 * RFC 4180 lines (CRLF; a cell holding a comma, quote, CR or LF, or leading or trailing blanks, is quoted with
 * quotes doubled). `spreadsheet`: a text cell starting with = + - @ or a tab is prefixed with an apostrophe,
 * so a name from the election definition cannot run as a formula when the county opens the file (CSV
 * injection); the Arlo files are read by Arlo's parser, not a spreadsheet, and are left as they are.
 */
export function csvCell(value: string, spreadsheet = false): string {
  const v = spreadsheet && /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: readonly string[], opts: { spreadsheet?: boolean } = {}): string {
  return `${cells.map((c) => csvCell(c, opts.spreadsheet === true)).join(',')}\r\n`;
}
