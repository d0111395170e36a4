// The kb executable.
import { executorArgv, main } from "./cli/main.ts";

const code = await main(executorArgv(process.argv0, process.argv.slice(2)));
process.exit(code);
