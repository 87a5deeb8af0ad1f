import { BurstWarning } from './burst-warning';

describe(BurstWarning.name, () => {
  it('logs the first refusal at once, counts the rest of the burst, and sums them up in the next line', () => {
    let now = 0;
    const lines: string[] = [];
    const sut = new BurstWarning({ warn: (line: string) => lines.push(line) }, () => now, 10_000);
    sut.note('refused a');
    for (let i = 0; i < 50; i++) sut.note('refused b');
    expect(lines).toEqual(['refused a']);
    now = 10_000;
    sut.note('refused c');
    expect(lines).toEqual(['refused a', 'refused c (and 50 more refusal(s) in the last 10 s)']);
  });
});
