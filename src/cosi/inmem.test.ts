import { stateConformance } from './conformance/state-suite.js';
import { InMemoryState } from './inmem.js';

stateConformance('in memory', async () => ({ state: new InMemoryState({ historyCapacity: 64 }), historyCapacity: 64, cleanup: async () => {} }));
