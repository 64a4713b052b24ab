import { IMAGE_KEY_INFO, ImageStore } from '../../../app/ledger/image-store';
import { dataLayout } from '../../../app/ledger/layout';
import { unlockStationKey } from '../../../app/ledger/station-key';
import { PASSPHRASE } from './constants';

/** The station's image store as an auditor holding the station key's passphrase opens it. */
export function stationImageStore(dataDir: string): ImageStore {
  const layout = dataLayout(dataDir);
  return ImageStore.open(layout.images, unlockStationKey(layout.stationKey, PASSPHRASE).deriveKey(IMAGE_KEY_INFO));
}
