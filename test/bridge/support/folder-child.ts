/** Child process for the folder crash test: takes and accepts scans until it is killed. */
import { FolderScannerDriver } from '../../../firmware-bridge/folder/folder-driver';

const dir = process.argv[2] as string;
const d = new FolderScannerDriver({ dir, pollMs: 5 });
d.on((e) => {
  if (e.type === 'sheet-scanned') void d.accept(e.sheetId).then((r) => r.ok && process.stdout.write(`accepted ${e.sheetId}\n`));
});
void d.connect().then(() => d.enableFeeding());
