import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import { importFile } from './index.js';

// One store handle per worker; SQLite WAL serialises the commits.
const store = Store.open(workerData.storeDir as string, { create: true });
parentPort!.on('message', async (msg: { file?: string; quit?: boolean }) => {
  if (msg.quit) {
    store.close();
    process.exit(0);
  }
  const outcome = await importFile(store, msg.file!);
  parentPort!.postMessage(outcome);
});
