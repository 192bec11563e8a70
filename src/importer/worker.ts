import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import { commitBatch, prepareFile } from './index.js';

// One store handle per worker; SQLite WAL serialises the commits.
const store = Store.open(workerData.storeDir as string, { create: true });
parentPort!.on('message', async (msg: { files?: string[]; quit?: boolean }) => {
  if (msg.quit) {
    store.close();
    process.exit(0);
  }
  const prepared = [];
  for (const f of msg.files!) prepared.push(await prepareFile(store, f));
  parentPort!.postMessage(commitBatch(store, prepared));
});
