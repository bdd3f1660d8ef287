import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openStore } from '../../src/store/index.js';

describe('openStore', () => {
  let dir: string;
  const cwd = process.cwd();
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-open-'));
  });
  afterEach(async () => {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  });

  it('opens sqlite:PATH, resolving a relative path against the working directory', async () => {
    process.chdir(dir);
    const store = await openStore('sqlite:sub/kmip.db');
    expect(store.kind).to.equal('sqlite');
    await store.close();
    expect((await stat(path.join(dir, 'sub', 'kmip.db'))).isFile()).to.equal(true);
  });

  it('opens an absolute sqlite:PATH', async () => {
    const file = path.join(dir, 'abs.db');
    const store = await openStore(`sqlite:${file}`);
    await store.close();
    expect((await stat(file)).isFile()).to.equal(true);
  });

  it('refuses other schemes without echoing the URI', async () => {
    for (const uri of ['postgres://user:secret@h/db', 'sqlite:', 'kmip.db']) {
      try {
        await openStore(uri);
        expect.fail(`opened ${uri}`);
      } catch (e) {
        expect(e).to.be.instanceOf(TypeError);
        expect(String(e)).to.not.match(/secret/);
      }
    }
  });
});
