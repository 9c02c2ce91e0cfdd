// Peer: DuckDB (npm @duckdb/node-api) read_csv + SQL sums of all products
// (the entries of A'A and A'y with A = [1 | X]), solved here by Cholesky.
// usage: node duckdb_fit.mjs FILE Y X1,X2,... THREADS   (THREADS: a number or "default")
// Rows with a NULL (NA or empty) used cell are filtered out first, as lm() does.
import { DuckDBInstance } from '@duckdb/node-api';

const [path, target, featList, threads] = process.argv.slice(2);
const xs = featList.split(',');
const cols = ['1', ...xs.map((c) => `"${c}"`)];
const y = `"${target}"`;
const k = cols.length;

const aggs = [];
for (let i = 0; i < k; i++)
  for (let j = i; j < k; j++) aggs.push(i === 0 && j === 0 ? 'count(*)' : `sum(${cols[i]}*${cols[j]})`);
for (let i = 0; i < k; i++) aggs.push(`sum(${cols[i]}*${y})`);
const types = [...xs, target].map((c) => `'${c}': 'DOUBLE'`).join(', ');
const notNull = [...xs, target].map((c) => `"${c}" IS NOT NULL`).join(' AND ');
const src = `read_csv('${path.replace(/'/g, "''")}', header = true, nullstr = ['NA', ''], ` +
  `types = {${types}})`;
const sql = `SELECT ${aggs.join(', ')} FROM ${src} WHERE ${notNull}`;

const opts = threads && threads !== 'default' ? { threads: String(threads) } : {};
const db = await DuckDBInstance.create(':memory:', opts);
const con = await db.connect();
const row = (await con.runAndReadAll(sql)).getRows()[0].map(Number);

// Unpack the symmetric A'A and A'y, then Cholesky: A'A = L L'.
const m = Array.from({ length: k }, () => new Float64Array(k));
let p = 0;
for (let i = 0; i < k; i++)
  for (let j = i; j < k; j++) m[i][j] = m[j][i] = row[p++];
const b = Float64Array.from(row.slice(p));
for (let j = 0; j < k; j++) {
  let d = m[j][j];
  for (let q = 0; q < j; q++) d -= m[j][q] * m[j][q];
  if (!(d > 0)) throw new Error(`A'A not positive definite at column ${j}`);
  m[j][j] = Math.sqrt(d);
  for (let i = j + 1; i < k; i++) {
    let s = m[i][j];
    for (let q = 0; q < j; q++) s -= m[i][q] * m[j][q];
    m[i][j] = s / m[j][j];
  }
}
for (let i = 0; i < k; i++) { // L z = b
  let s = b[i];
  for (let q = 0; q < i; q++) s -= m[i][q] * b[q];
  b[i] = s / m[i][i];
}
for (let i = k - 1; i >= 0; i--) { // L' beta = z
  let s = b[i];
  for (let q = i + 1; q < k; q++) s -= m[q][i] * b[q];
  b[i] = s / m[i][i];
}
const names = ['(Intercept)', ...xs];
process.stdout.write(names.map((n, i) => `${n} ${b[i].toPrecision(17)}\n`).join(''));
