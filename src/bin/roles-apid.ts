/**
 * The image's apid program: roles.ts with apid alone. A bundle of every role makes V8 hold the source and the
 * top-level code of all of them in a process that runs one; apid stays resident on every node.
 */
import { roleProgram } from './role-program.js';

export const { loadRole, main } = roleProgram({ apid: () => import('./role-apid.js') });
