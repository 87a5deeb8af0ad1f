import { ConnectionsPerIp } from './connections-per-ip';

describe(ConnectionsPerIp.name, () => {
  it('admits up to the cap per IP, and again once one closes', () => {
    const sut = new ConnectionsPerIp(2);
    for (let i = 0; i < 2; i++) {
      expect(sut.admit('10.0.0.1')).toBe(true);
      sut.opened('10.0.0.1');
    }
    expect(sut.admit('10.0.0.1')).toBe(false);
    expect(sut.admit('10.0.0.2')).toBe(true);
    sut.closed('10.0.0.1');
    expect(sut.admit('10.0.0.1')).toBe(true);
    expect(sut.count('10.0.0.1')).toBe(1);
  });

  it('reports the first refusal of an episode only', () => {
    const sut = new ConnectionsPerIp(1);
    sut.opened('a');
    expect(sut.firstRefusal('a')).toBe(true);
    expect(sut.firstRefusal('a')).toBe(false);
    sut.closed('a');
    sut.opened('a');
    expect(sut.firstRefusal('a')).toBe(true);
  });

  it('has no cap at 0', () => {
    const sut = new ConnectionsPerIp(0);
    for (let i = 0; i < 5000; i++) sut.opened('a');
    expect(sut.admit('a')).toBe(true);
  });
});
