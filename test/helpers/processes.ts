/**
 * Whether a process with this pid exists (a zombie counts until its parent reaps it).
 *
 * @param pid - the process id
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the process is gone within 5 s: an orphan stays a zombie until pid 1 reaps it.
 *
 * @param pid - the process id
 */
export async function processExited(pid: number): Promise<boolean> {
  for (let waitedMs = 0; processAlive(pid) && waitedMs < 5000; waitedMs += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !processAlive(pid);
}
