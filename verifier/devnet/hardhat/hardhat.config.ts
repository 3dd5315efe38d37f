// Hardhat 3 configuration for `porv devnet up --chain hardhat` and porv's test fixtures, shipped
// inside porv's package. For each node porv copies this file and the package.json beside it (which
// only marks the folder as ESM, as Hardhat 3 requires of its project) into a temporary folder,
// links that folder's node_modules to the one holding the user's Hardhat (Hardhat refuses to run
// from a project that does not resolve it locally), and runs
// `hardhat --config <copy> node --hostname 127.0.0.1 --port <port> --chain-id <id>` on Node >= 22.
// Hardhat writes its cache and artifacts under PORV_HARDHAT_WORKDIR (porv sets it to that
// temporary folder) so that running a node leaves nothing behind.
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
