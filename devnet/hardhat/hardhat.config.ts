// Hardhat 3 configuration for `porv devnet up --chain hardhat` and porv's test fixtures.
// porv runs `hardhat --config <this file> node --hostname 127.0.0.1 --port <free> --chain-id <id>`
// on Node 22 from npm (node_modules/.bin/node), as Hardhat 3 needs Node 22. The package.json
// beside this file only marks the folder as ESM, which Hardhat 3 requires of its project.
// Hardhat writes its cache and artifacts under PORV_HARDHAT_WORKDIR (porv sets it to a temporary
// folder) so that running a node leaves nothing in the repository.
import os from "node:os";
import path from "node:path";

const work = process.env.PORV_HARDHAT_WORKDIR ?? path.join(os.tmpdir(), "porv-hardhat");
// PORV_HARDHAT_INITIAL_DATE (unix seconds): the genesis time; the node's clock then runs that far
// behind the wall clock (porv's --genesis-time, anvil's --timestamp).
const initial = process.env.PORV_HARDHAT_INITIAL_DATE;

export default {
  paths: {
    cache: path.join(work, "cache"),
    artifacts: path.join(work, "artifacts"),
  },
  networks: {
    default: {
      type: "edr-simulated",
      chainId: 31337,
    },
    // the network `hardhat node` serves
    node: {
      type: "edr-simulated",
      chainId: 31337,
      ...(initial ? { initialDate: new Date(Number(initial) * 1000) } : {}),
    },
  },
};
