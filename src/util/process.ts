/** True while a process with this pid runs on this host; EPERM means it runs as another user. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as { code?: unknown }).code === 'EPERM';
  }
}
