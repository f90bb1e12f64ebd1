/**
 * The CPU time this process has used, in ms (user + system, all threads): for tests that bound the cost of pure
 * computation. Unlike the wall clock it does not grow when a busy machine gives the process less of a core (CI runs
 * on a loaded 2-core machine; a wall-clock bound there measured the machine, not the code).
 */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
