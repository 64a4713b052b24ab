import { ed25519 } from '@noble/curves/ed25519';
import { ALG_COSIGNATURE_V1, ALG_ED25519, generateSigner, openNote, signatureBody, signNote } from '../../app/county/tlog/note';
import { TlogError } from '../../app/county/tlog/stored-hashes';

/** The log's and the witnesses' Ed25519 signatures are made by Node's OpenSSL; they must be RFC 8032's bytes. */

test('RFC 8032 section 7.1, TEST 1 and TEST 2: the signature bytes of the standard', () => {
  const vectors = [
    {
      seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      message: '',
      signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      message: '72',
      signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
  ];
  for (const v of vectors) {
    const signer = generateSigner('rfc8032', ALG_ED25519, Buffer.from(v.seed, 'hex'));
    // signatureBody signs the UTF-8 of its text: TEST 2's one byte 0x72 is 'r'
    expect(Buffer.from(signatureBody(signer, Buffer.from(v.message, 'hex').toString('latin1'))).toString('hex')).toBe(v.signature);
  }
});

test('the same bytes as noble for many keys and texts, checkpoints and cosignatures alike, and they open', () => {
  for (let i = 0; i < 40; i++) {
    const seed = new Uint8Array(32).fill(i + 1);
    seed[0] = i;
    const signer = generateSigner(`log-${i}.example/x`, ALG_ED25519, seed);
    const text = `log-${i}.example/x\n${i * 1000}\n${Buffer.alloc(32, i).toString('base64')}\n`;
    expect(Buffer.from(signatureBody(signer, text)).equals(Buffer.from(ed25519.sign(Buffer.from(text), seed)))).toBe(true);
    const witness = generateSigner(`witness-${i}`, ALG_COSIGNATURE_V1, seed);
    const body = signatureBody(witness, text, BigInt(1_700_000_000 + i));
    expect(Buffer.from(body.subarray(8)).equals(Buffer.from(ed25519.sign(Buffer.from(`cosignature/v1\ntime ${1_700_000_000 + i}\n${text}`), seed)))).toBe(true);
    const note = signNote(text, [signer]);
    expect(openNote(note, [signer])).not.toBeInstanceOf(TlogError);
  }
});
