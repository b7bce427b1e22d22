export { Sequencer, type SequencerOptions, type RunOptions, type SequenceBuilder, type SequenceDefinitions } from './sequencer.js';
export { PhaseList, type Phase, type Task, type TaskFn, type TaskContext } from './phases.js';
export { PriorityLock, type LockOptions, type Held } from './priority-lock.js';
export { SEQUENCES, canTakeOver, parseSequence, type SequenceName } from './sequence.js';
export { standardSequences, initializeSequence, bootSequence, rebootSequence, shutdownSequence, resetSequence, TASK_NAMES, type TaskName, type TaskSet, type SequenceEnvironment } from './definitions.js';
export { SequencerError, RebootRequested, RebootCommand, isRebootRequested, pid1ExitStatus, PID1_RESTART_MACHINED, type SequencerErrorCode } from './errors.js';
