import { AddressBudgets } from './address-budgets';

describe(AddressBudgets.name, () => {
  it('shares one budget among every connection of an address, and keeps addresses apart', () => {
    const sut = new AddressBudgets(10, 3);
    for (let i = 0; i < 3; i++) expect(sut.take('10.0.0.1', 0)).toBe(0);
    expect(sut.take('10.0.0.1', 0)).toBe(100);
    expect(sut.take('10.0.0.2', 0)).toBe(0);
    expect(sut.take('10.0.0.1', 100)).toBe(0);
  });

  it('forgets addresses whose bucket has refilled, so memory follows the active addresses only', () => {
    const sut = new AddressBudgets(10, 3);
    for (let i = 0; i < 1000; i++) sut.take(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(sut.size).toBe(1000);
    sut.take('10.9.9.9', 20_000); // 3 tokens refill in 0.3 s; the sweep runs at most every 10 s
    expect(sut.size).toBe(1);
  });

  it('is off with a rate or a burst of 0', () => {
    const sut = new AddressBudgets(0, 5);
    for (let i = 0; i < 100; i++) expect(sut.take('10.0.0.1', 0)).toBe(0);
    expect(sut.size).toBe(0);
  });
});
