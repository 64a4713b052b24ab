import { openWithPassphrase, sealWithPassphrase } from '../../ballots/identity/passphrase-box';

const CHEAP = { N: 1 << 10, r: 8, p: 1 };

describe('passphrase box', () => {
  it('opens with the right passphrase', () => {
    const secret = new Uint8Array([1, 2, 3, 250]);
    const box = sealWithPassphrase(secret, 'correct horse', CHEAP);
    const opened = openWithPassphrase(JSON.parse(JSON.stringify(box)), 'correct horse');
    expect(opened).toEqual({ ok: true, value: secret });
  });

  it('refuses a wrong passphrase and a changed ciphertext', () => {
    const box = sealWithPassphrase(new Uint8Array(32).fill(7), 'pw', CHEAP);
    expect(openWithPassphrase(box, 'PW')).toEqual({ ok: false, error: { kind: 'wrong-passphrase-or-tampered' } });
    const flipped = { ...box, ciphertext: (box.ciphertext[0] === 'a' ? 'b' : 'a') + box.ciphertext.slice(1) };
    expect(openWithPassphrase(flipped, 'pw')).toEqual({ ok: false, error: { kind: 'wrong-passphrase-or-tampered' } });
  });

  it('names what is malformed', () => {
    const r = openWithPassphrase({ format: 'tallyproof-passphrase-box/1' }, 'pw');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'malformed', detail: expect.stringContaining('kdf') });
  });

  it('refuses an empty passphrase', () => {
    expect(() => sealWithPassphrase(new Uint8Array(1), '')).toThrow('empty passphrase');
  });
});
