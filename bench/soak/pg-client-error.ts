import pg from 'pg';
import { startPgCluster } from './pg-cluster.js';

const withFix = process.argv[2] === 'fix';
const cluster = startPgCluster(5440);
process.on('exit', () => cluster.dispose());
const pool = new pg.Pool({ connectionString: cluster.adminUrl, max: 4, connectionTimeoutMillis: 10_000 });
pool.on('error', () => {});
if (withFix) pool.on('connect', (client) => client.on('error', () => {}));
const client = await pool.connect();
await client.query('begin');
await client.query('select 1');
// Checked out, between statements of a transaction, when the server goes away:
cluster.restart('fast');
await new Promise((r) => setTimeout(r, 500));
try {
  await client.query('select 2');
  console.log('unexpected: query on the old client worked');
  client.release();
} catch (error) {
  console.log('query on the lost client failed as it should:', (error as Error).message);
  client.release(error as Error);
}
const { rows } = await pool.query('select 3 as n');
console.log('pool works after the restart:', rows[0]);
await pool.end();
