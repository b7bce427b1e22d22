/** The image's trustd program: roles.ts with trustd alone (why: roles-apid.ts). */
import { roleProgram } from './role-program.js';

export const { loadRole, main } = roleProgram({ trustd: () => import('./role-trustd.js') });
