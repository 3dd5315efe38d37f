// Baseline for benchmarks/merkle_build.py: build the holdings tree of a CSV with OpenZeppelin's
// StandardMerkleTree.of in one Node process and write its dump, as `porv tree build` does.
//   node benchmarks/oz_build.js HOLDINGS.csv OUT.json
'use strict';

const fs = require('fs');
const path = require('path');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const { LEAF_ENCODING, readHoldings } = require(
  path.join(__dirname, '..', 'fixtures', 'vectors', 'lib-merkle.js'));

const [csv, out] = process.argv.slice(2);
const values = readHoldings(csv);
const tree = StandardMerkleTree.of(values, LEAF_ENCODING);
fs.writeFileSync(out, JSON.stringify(tree.dump()) + '\n');
process.stderr.write(`root ${tree.root}: ${values.length} holdings\n`);
