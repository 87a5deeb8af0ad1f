import { TokenBucket } from './token-bucket';

describe(TokenBucket.name, () => {
  it('admits a burst at once, then refuses with the wait until the next token', () => {
    const sut = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(sut.take(0)).toBe(0);
    expect(sut.take(0)).toBe(100);
    expect(sut.take(40)).toBe(60);
  });

  it('refills at the configured rate, never above the burst', () => {
    const sut = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) sut.take(0);
    expect(sut.take(100)).toBe(0);
    expect(sut.take(100)).toBeGreaterThan(0);
    const later = 100 + 60_000;
    for (let i = 0; i < 5; i++) expect(sut.take(later)).toBe(0);
    expect(sut.take(later)).toBeGreaterThan(0);
  });

  it('sustains exactly the rate once the burst is spent', () => {
    const sut = new TokenBucket(20, 1, 0);
    let admitted = 0;
    for (let t = 0; t <= 10_000; t += 10) if (sut.take(t) === 0) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(200);
    expect(admitted).toBeLessThanOrEqual(202);
  });

  it('is off with a rate or burst of 0', () => {
    expect(new TokenBucket(0, 50, 0).enabled).toBe(false);
    const sut = new TokenBucket(10, 0, 0);
    for (let i = 0; i < 1000; i++) expect(sut.take(0)).toBe(0);
  });
});
