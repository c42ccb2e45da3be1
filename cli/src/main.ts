/**
 * `replicant <dev|origin|fanout|gateway>`: parses and validates config, then runs the mode.
 * Configuration errors (bad or missing settings, unknown flags) are one line on stderr and exit 2.
 */
import { ConfigError, load, type Config } from './config.js';
import { runDev } from './dev.js';
import { runFanout, runGateway, runOrigin } from './cluster.js';

async function run(cfg: Config): Promise<void> {
  switch (cfg.mode) {
    case 'dev':
      return runDev(cfg);
    case 'origin':
      return runOrigin(cfg);
    case 'fanout':
      return runFanout(cfg);
    case 'gateway':
      return runGateway(cfg);
  }
}

let cfg: Config;
try {
  const r = load(process.argv.slice(2));
  if ('help' in r) {
    process.stdout.write(r.help);
    process.exit(0);
  }
  cfg = r.config;
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`replicant: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
run(cfg).catch((err: Error) => {
  console.error(`replicant ${cfg.mode}: ${err instanceof ConfigError ? err.message : (err.stack ?? err.message)}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
