/**
 * Child of mongo-atomic.test.ts: runs one atomic() object group through its
 * protocol steps up to `stage` or `commit` against the database named on the
 * command line, says so on stdout, then waits to be killed with SIGKILL.
 * Usage: node --import tsx mongo-atomic-child.ts URI DATABASE PREFIX stage|commit
 */

import { MongoClient } from 'mongodb';
import { protocolFor, stageGroup } from './mongo-atomic-group.js';

const [uri, database, prefix, upTo] = process.argv.slice(2);
if (
  uri === undefined ||
  database === undefined ||
  prefix === undefined ||
  (upTo !== 'stage' && upTo !== 'commit')
) {
  throw new Error('usage: mongo-atomic-child.ts URI DATABASE PREFIX stage|commit');
}
const client = new MongoClient(uri);
await client.connect();
const { protocol } = await protocolFor(client.db(database), 60_000);
const txn = await stageGroup(protocol, prefix);
if (upTo === 'commit') await protocol.commit(txn);
process.stdout.write(`${upTo} ${txn}\n`);
setInterval(() => undefined, 60_000);
