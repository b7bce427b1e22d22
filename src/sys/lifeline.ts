import { Socket } from 'node:net';
import { native } from '../platform/native.js';

/** The environment variable naming the lifeline's file descriptor in a supervised process. */
export const LIFELINE_ENV = 'BRONZE_LIFELINE_FD';
/** The environment variable carrying the supervisor's (machined's) pid. */
export const SUPERVISOR_PID_ENV = 'BRONZE_SUPERVISOR_PID';

/**
 * In a process machined started with a lifeline: asks the kernel to SIGKILL it when machined's main thread ends, so
 * it cannot outlive machined even when its own event loop is stuck; exits at once when machined is gone already.
 * Returns why that was not possible (no supervisor, native addon missing), or undefined when it is in place.
 */
export function dieWithSupervisor(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const supervisor = Number(env[SUPERVISOR_PID_ENV]);
  if (!Number.isInteger(supervisor) || supervisor <= 0) return 'not started by a supervisor';
  try {
    native().setParentDeathSignal(9);
  } catch (e) {
    return (e as Error).message;
  }
  if (process.ppid !== supervisor) process.exit(1);
  return undefined;
}

/**
 * In a process machined started with a lifeline: calls `gone` once machined has ended (its end of the pipe closed,
 * which happens even when it was killed with SIGKILL). Returns false when the process has no lifeline. The watch does
 * not keep the process alive.
 */
export function watchLifeline(gone: () => void, env: NodeJS.ProcessEnv = process.env): boolean {
  const fd = Number(env[LIFELINE_ENV]);
  if (!Number.isInteger(fd) || fd < 3) return false;
  let line: Socket;
  try {
    line = new Socket({ fd, readable: true, writable: false });
  } catch {
    return false;
  }
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    gone();
  };
  line.on('end', once);
  line.on('close', once);
  line.on('error', once);
  line.resume();
  line.unref();
  return true;
}
