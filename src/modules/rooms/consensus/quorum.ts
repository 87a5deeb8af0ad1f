/** How many of `voters` make a majority. */
export const majorityOf = (voters: number): number => Math.floor(voters / 2) + 1;

/**
 * The host and one follower are a majority (two or three voters): a follower can tell by itself
 * that an entry is committed once both have it on disk, so the host sends its appends after its
 * own write instead of a second message carrying the commit (RoomLogCore, HostReplication).
 */
export const hostAndOneMakeMajority = (voters: number): boolean => voters > 1 && majorityOf(voters) <= 2;

/**
 * The highest index a majority of voters has on disk: sort what each holds, take the majority-th
 * highest. Learners are passed as 0 (they do not count yet).
 */
export function majorityIndex(matches: readonly number[]): number {
  const sorted = [...matches].sort((a, b) => b - a);
  return sorted[majorityOf(matches.length) - 1] ?? 0;
}

/** One election's answers: won, lost, or still open. */
export class VoteTally {
  private readonly answers = new Map<string, boolean>();

  constructor(private readonly voters: number) {}

  record(node: string, granted: boolean): void {
    if (!this.answers.has(node)) this.answers.set(node, granted);
  }

  outcome(): 'won' | 'lost' | 'open' {
    let yes = 0;
    for (const granted of this.answers.values()) if (granted) yes++;
    const no = this.answers.size - yes;
    const needed = majorityOf(this.voters);
    if (yes >= needed) return 'won';
    if (no > this.voters - needed) return 'lost';
    return 'open';
  }
}
