import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type Config } from '../../src/config/config.js';
import { assertRedisReachable, openRedis, redisTarget } from '../../src/queue/connection.js';
import { FleetRegister, type BudgetChange, type FleetReading } from '../../src/queue/fleet-register.js';
import { assertFleetName } from '../../src/records/fleet.js';
import { budgetOption, fleetBudgetOf } from './options.js';

function positiveOption(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !(n > 0)) throw new InvalidArgumentError(`${flag} expects a positive number, got "${value}"`);
    return n;
  };
}

/** Opens the configured Redis for one fleet operation and closes it after. */
export async function withFleets<T>(config: Config, use: (fleets: FleetRegister) => Promise<T>): Promise<T> {
  const target = redisTarget(config);
  await assertRedisReachable(target);
  const conns = openRedis(target);
  try {
    return await use(new FleetRegister(conns.redis, config.queuePrefix));
  } finally {
    conns.disconnect();
  }
}

/** Sets a fleet's budgets (what `fleet set`, and `ingest`/`enqueue --budget-…` do). */
export async function setFleetBudget(config: Config, name: string, change: BudgetChange): Promise<FleetReading> {
  assertFleetName(name);
  return withFleets(config, async (fleets) => {
    await fleets.setBudget(name, change);
    return fleets.reading(name);
  });
}

const fmt = (v: number | undefined, digits = 1) => (v === undefined ? '–' : v.toFixed(digits));

/** `fleet show`'s text: budget, spend, prices, then one line per live member. */
export function fleetText(r: FleetReading): string {
  const lines = [
    `fleet ${r.name}: ${r.totals.members} live member(s), member timeout ${r.budget.timeoutS} s`,
    `  uplink: budget ${r.budget.kbps === undefined ? 'none' : `${fmt(r.budget.kbps)} kbit/s`}, spend ${fmt(r.totals.kbps)} kbit/s, price ${r.priceBw === undefined ? '–' : `${r.priceBw.toExponential(3)} F1 per kbit/s`}`,
    `  GPU: budget ${r.budget.gpuFps === undefined ? 'none' : `${fmt(r.budget.gpuFps)} frames/s`}, spend ${fmt(r.totals.gpuFps)} frames/s, price ${r.priceGpu === undefined ? '–' : `${r.priceGpu.toExponential(3)} F1 per frame/s`}`,
  ];
  if (r.state.floorsReleasedAt !== null) lines.push(`  floors of priority ≤ ${r.state.floorsReleasedAt} released (the budget cannot hold them)`);
  const members = Object.entries(r.state.members).sort((a, b) => a[0].localeCompare(b[0]));
  if (members.length > 0) lines.push('  stream  kbit/s  frames/s  share  weight  priority  floor');
  for (const [id, m] of members) {
    const floor = m.floorF1 === undefined ? '–' : `${m.floorF1}${m.floorBound ? ' (binding)' : ''}`;
    lines.push(`  ${id}  ${fmt(m.nextKbps ?? m.kbps)}  ${fmt(m.nextGpuFps ?? m.gpuFps)}  ${(100 * (r.shares[id] ?? 0)).toFixed(1)}%  ${m.weight}  ${m.priority}  ${floor}`);
  }
  return lines.join('\n');
}

export function registerFleetCommands(program: Command): void {
  const fleet = program.command('fleet').description('fleets: streams sharing one budget (total uplink, GPU frames per second) at one price');
  fleet
    .command('set')
    .description('set or change a fleet\'s budget; takes effect at the members\' next results')
    .argument('<name>', 'fleet name')
    .option('--budget-kbps <n>', 'total uplink of the fleet\'s streams, kbit/s (off: none)', budgetOption('--budget-kbps'))
    .option('--budget-gpu-fps <n>', 'frames inferred per second across the fleet (off: none)', budgetOption('--budget-gpu-fps'))
    .option('--timeout-s <s>', 'a member whose results stop for this long is dropped and its share released (default 30)', positiveOption('--timeout-s'))
    .action(async (name: string, o: { budgetKbps?: number | 'off'; budgetGpuFps?: number | 'off'; timeoutS?: number }) => {
      const r = await setFleetBudget(loadConfig(), name, { ...fleetBudgetOf(o), timeoutS: o.timeoutS });
      console.log(fleetText(r));
    });
  fleet
    .command('show')
    .description('a fleet\'s budget, spend, prices and members\' shares')
    .argument('[name]', 'fleet name (default: list the fleets)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      await withFleets(loadConfig(), async (fleets) => {
        if (name === undefined) {
          const names = await fleets.fleets();
          console.log(o.json ? JSON.stringify(names) : names.length > 0 ? names.join('\n') : 'no fleets');
          return;
        }
        const r = await fleets.reading(assertFleetName(name));
        console.log(o.json ? JSON.stringify(r, null, 2) : fleetText(r));
      });
    });
}
