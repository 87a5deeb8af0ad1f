import { SeededRandom } from '../durability/seeded-random';

/**
 * The one source of randomness of a simulated run: the network, the disks, the fault plan, the
 * clients and every core's own `random` draw from it in the order the run asks, so a seed replays
 * exactly.
 */
export class SimRandom extends SeededRandom {}
