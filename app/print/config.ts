import { z } from 'zod';

/**
 * station.json `printer`: where tapes go besides the PDF the station always keeps in `<data>/tapes/`.
 *
 * - `escpos`: an 80 mm ESC/POS thermal printer on a device file (USB printer class `/dev/usb/lp0`, or a
 *   USB-serial/serial port already set to the printer's speed). It gets a raster of the same roll tape.
 * - `cups`: a CUPS queue, via `lp` (Debian cups-client); letter paper by default.
 * - `simulated`: what a printer would get, written to files in `dir` (drills and tests): the ESC/POS stream
 *   for a roll, the PDF for letter.
 * - `none` (the default): PDF files only.
 */
export const printerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('escpos'),
    device: z.string().min(1),
    /** printable dots per line: 576 on an 80 mm head at 203 dpi (72 mm), 512 on some */
    dotsPerLine: z.union([z.literal(576), z.literal(512)]).default(576),
    /** the printer has a cutter (GS V); without one the tape is fed out for tearing */
    cutter: z.boolean().default(true),
  }),
  z.strictObject({
    kind: z.literal('cups'),
    /** lp -d; default: the system's default destination */
    queue: z.string().regex(/^[A-Za-z0-9_.@-]{1,127}$/, 'must be a CUPS queue name').optional(),
    paper: z.enum(['letter', 'roll80']).default('letter'),
    /** the lp program (default `lp` on PATH) */
    lp: z.string().min(1).default('lp'),
  }),
  z.strictObject({
    kind: z.literal('simulated'),
    dir: z.string().min(1),
    paper: z.enum(['roll80', 'letter']).default('roll80'),
  }),
  z.strictObject({ kind: z.literal('none'), paper: z.enum(['roll80', 'letter']).default('roll80') }),
]);
export type PrinterConfig = z.infer<typeof printerConfigSchema>;
export type PrinterConfigInput = z.input<typeof printerConfigSchema>;

/**
 * `--printer` on the command line: `escpos:/dev/usb/lp0`, `cups:` or `cups:QUEUE`, `cups-roll:QUEUE`,
 * `simulated:DIR`, `simulated-letter:DIR`, `none`.
 */
export function parsePrinterArg(raw: string): PrinterConfig {
  const i = raw.indexOf(':');
  const kind = i < 0 ? raw : raw.slice(0, i);
  const rest = i < 0 ? '' : raw.slice(i + 1);
  let input: unknown;
  switch (kind) {
    case 'escpos':
      input = { kind: 'escpos', device: rest };
      break;
    case 'cups':
    case 'cups-roll':
      input = { kind: 'cups', ...(rest === '' ? {} : { queue: rest }), paper: kind === 'cups' ? 'letter' : 'roll80' };
      break;
    case 'simulated':
    case 'simulated-letter':
      input = { kind: 'simulated', dir: rest, paper: kind === 'simulated' ? 'roll80' : 'letter' };
      break;
    case 'none':
      input = { kind: 'none' };
      break;
    default:
      throw new Error(`--printer must be escpos:<device>, cups[:queue], cups-roll:<queue>, simulated:<dir>, simulated-letter:<dir> or none, got "${raw}"`);
  }
  const r = printerConfigSchema.safeParse(input);
  if (!r.success) throw new Error(`--printer ${raw}: ${r.error.issues.map((x) => `${x.path.join('.') || kind}: ${x.message}`).join('; ')}`);
  return r.data;
}
