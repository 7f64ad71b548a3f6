import { randomUUID } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppConfig } from '../config/config';
import { assertAvatarKey, AvatarObject, AvatarStorage, contentTypeOf, unavailableOnError, userPrefix } from './avatar-storage';

/** The embedded default: avatars under DATA_DIR/avatars, served by the service at /avatars/<key>. */
export class LocalAvatarStorage extends AvatarStorage {
  readonly root: string;
  private readonly baseUrl: string;

  constructor(config: AppConfig) {
    super();
    this.root = join(config.dataDir, 'avatars');
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    this.baseUrl = config.avatars.publicBaseUrl ?? `http://${host}:${config.port}/avatars`;
  }

  async ensureBucket(): Promise<void> {
    await unavailableOnError({ operation: 'mkdir', key: this.root }, () => mkdir(this.root, { recursive: true }));
  }

  async ping(): Promise<void> {
    await unavailableOnError({ operation: 'access', key: this.root }, () => access(this.root));
  }

  async put(objects: AvatarObject[]): Promise<void> {
    objects.forEach((o) => assertAvatarKey(o.key));
    await unavailableOnError({ operation: 'write', key: objects.map((o) => o.key).join(' ') }, async () => {
      // An upload's variants share one folder.
      for (const dir of new Set(objects.map((o) => dirname(this.pathOf(o.key))))) await mkdir(dir, { recursive: true });
      await Promise.all(
        objects.map(async (o) => {
          const path = this.pathOf(o.key);
          // write + rename: a reader never sees half a file
          const temp = `${path}.${randomUUID()}.tmp`;
          await writeFile(temp, o.body);
          await rename(temp, path);
        }),
      );
    });
  }

  async remove(keys: string[]): Promise<void> {
    keys.forEach(assertAvatarKey);
    await unavailableOnError({ operation: 'rm', key: keys.join(' ') }, () =>
      Promise.all(keys.map((key) => rm(this.pathOf(key), { force: true }))),
    );
    // Folders left empty (<hash>, then <user>) go too; one still in use is not empty and stays.
    for (const dir of new Set(keys.map((key) => dirname(this.pathOf(key))))) {
      await rmdir(dir).catch(() => undefined);
      await rmdir(dirname(dir)).catch(() => undefined);
    }
  }

  async removeAllOf(userId: string): Promise<number> {
    const dir = join(this.root, ...userPrefix(userId).split('/'));
    return unavailableOnError({ operation: 'rm', key: userPrefix(userId) }, async () => {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      await rm(dir, { recursive: true, force: true });
      return entries.filter((entry) => entry.isFile()).length;
    });
  }

  async read(key: string): Promise<{ body: Buffer; contentType: string }> {
    assertAvatarKey(key);
    const body = await unavailableOnError({ operation: 'read', key }, () => readFile(this.pathOf(key)));
    return { body, contentType: contentTypeOf(key) };
  }

  publicUrl(key: string): string {
    return `${this.baseUrl}/${key}`;
  }

  /** Only for keys that passed AVATAR_KEY: no `..`, no absolute paths. */
  pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }
}
