/**
 * The node's programs in one code base: the role comes from the first argument or the program name (`machined`,
 * `apid`, `trustd`; and `discovery`, the discovery service a local cluster runs), as Talos's /sbin/init does. Each
 * role's code is imported only when that role runs, so apid and trustd do not load (nor evaluate) machined's
 * controllers, and the other way round. The image bundles this program for machined, and apid and trustd each on
 * their own (roles-apid.ts, roles-trustd.ts).
 */
import { roleProgram } from './role-program.js';

export type { RoleMain } from './role-program.js';

export const { loadRole, main } = roleProgram({
  machined: () => import('./role-machined.js'),
  apid: () => import('./role-apid.js'),
  trustd: () => import('./role-trustd.js'),
  discovery: () => import('./role-discovery.js'),
});
