// An issuer and its custodians using other tools than porv: ethers v6 deploys and mints an
// ERC-20 and signs EIP-712 attestations, @openzeppelin/merkle-tree builds the holdings trees,
// and this script writes the porv.bundle/1 JSON itself. porv only reads what it produces.
//
//   node issuer.js deploy URL NAME SYMBOL DECIMALS [TO=AMOUNT ...]   -> {"token", "owner", "block"}
//   node issuer.js mint URL TOKEN TO AMOUNT                          -> {"block"}
//   node issuer.js bundle CONFIG.json OUT.json                       -> {"digests": [...]}
//
// Amounts are base units (decimal strings). The bundle config is
//   {issuer, token: {symbol, currency, decimals}, asOf (unix s), deployments: [...],
//    custodians: [{id, keys: ["0x<secp256k1 key>", ...], holdings: [[12 leaf values], ...],
//                  validUntil, sequence}]}
// with leaf values in porv's 12-field leaf order (DESIGN §2), integers as decimal strings.
'use strict';

const fs = require('fs');
const path = require('path');
const { ContractFactory, Contract, JsonRpcProvider, Wallet, TypedDataEncoder } = require('ethers');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const REPO = path.resolve(__dirname, '..', '..', '..');
// porv's fixed leaf encoding and EIP-712 types, as the vector generators write them
const { DOMAIN, TYPES, LEAF_ENCODING } = require(path.join(REPO, 'fixtures', 'vectors', 'lib-attestation.js'));

function provider(url) {
  return new JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 1 });
}

function artifact() {
  const file = path.join(REPO, 'verifier', 'chain', 'contracts', 'TestStablecoin.json');
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

async function deploy(url, name, symbol, decimals, mints) {
  const p = provider(url);
  const owner = await p.getSigner(0);
  const { abi, bytecode } = artifact();
  const token = await new ContractFactory(abi, bytecode, owner).deploy(name, symbol, Number(decimals));
  await token.waitForDeployment();
  let block = 0;
  for (const spec of mints) {
    const [to, amount] = spec.split('=');
    const receipt = await (await token.mint(to, BigInt(amount))).wait();
    block = receipt.blockNumber;
  }
  return { token: await token.getAddress(), owner: await owner.getAddress(), block };
}

async function mint(url, tokenAddress, to, amount) {
  const p = provider(url);
  const token = new Contract(tokenAddress, artifact().abi, await p.getSigner(0));
  const receipt = await (await token.mint(to, BigInt(amount))).wait();
  return { block: receipt.blockNumber };
}

function totalsOf(values) {
  const sums = new Map();
  for (const v of values) {
    const [currency, amount, decimals] = [v[2], BigInt(v[3]), Number(v[4])];
    const acc = sums.get(currency) || { amount: 0n, decimals };
    if (acc.decimals !== decimals) throw new Error(`${currency} with two decimals`);
    acc.amount += amount;
    sums.set(currency, acc);
  }
  return [...sums.keys()]
    .sort()
    .map((c) => ({ currency: c, amount: sums.get(c).amount.toString(), decimals: sums.get(c).decimals }));
}

function rfc3339(unix) {
  return new Date(unix * 1000).toISOString().replace('.000Z', 'Z');
}

async function bundle(configFile, outFile) {
  const cfg = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const custodians = [];
  const digests = [];
  for (const c of cfg.custodians) {
    const tree = StandardMerkleTree.of(c.holdings, LEAF_ENCODING);
    const message = {
      issuer: cfg.issuer,
      token: cfg.token.symbol,
      custodian: c.id,
      holdingsRoot: tree.root,
      leafCount: String(c.holdings.length),
      totals: totalsOf(c.holdings),
      asOf: cfg.asOf,
      validUntil: c.validUntil,
      sequence: c.sequence,
    };
    const signatures = [];
    for (const key of c.keys) {
      const wallet = new Wallet(key);
      signatures.push({
        scheme: 'secp256k1',
        signer: wallet.address,
        signature: await wallet.signTypedData(DOMAIN, TYPES, message),
      });
    }
    digests.push(TypedDataEncoder.hash(DOMAIN, TYPES, message));
    custodians.push({ id: c.id, tree: tree.dump(), attestation: message, signatures });
  }
  const doc = {
    format: 'porv.bundle/1',
    issuer: cfg.issuer,
    token: cfg.token,
    as_of: rfc3339(cfg.asOf),
    deployments: cfg.deployments,
    custodians,
  };
  fs.writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  return { digests };
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === 'deploy') return deploy(args[0], args[1], args[2], args[3], args.slice(4));
  if (command === 'mint') return mint(args[0], args[1], args[2], args[3]);
  if (command === 'bundle') return bundle(args[0], args[1]);
  throw new Error(`unknown command ${command}`);
}

main(process.argv.slice(2)).then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
  },
  (err) => {
    process.stderr.write(`issuer.js: ${err.stack || err}\n`);
    process.exit(1);
  },
);
