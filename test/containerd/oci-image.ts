import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The host's busybox (Debian's busybox-static), or undefined. */
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => {
  try {
    return readFileSync(p).subarray(0, 4).toString('latin1') === '\x7fELF' && !execFileSync('file', ['-b', p], { encoding: 'utf8' }).includes('dynamically');
  } catch {
    return false;
  }
});

export interface BuiltImage {
  /** the OCI layout archive */
  archive: Buffer;
  /** the image's directory (oci-layout, index.json, blobs/) */
  layout: string;
  name: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  /** the OCI index blob's bytes (what a registry serves for the tag) */
  manifest: Buffer;
}

/**
 * Builds a one-layer OCI image from the host's static busybox: /bin/busybox with sh, sleep, cat and echo links, a
 * default command, named by `io.containerd.image.name`. The layer is an uncompressed tar made by tar(1).
 */
export function buildBusyboxImage(dir: string, name: string, cmd: string[] = ['/bin/sh']): BuiltImage {
  if (!BUSYBOX) throw new Error('a static busybox is needed (Debian package busybox-static)');
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const d of ['tmp', 'proc', 'sys', 'dev', 'etc']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  for (const tool of ['sh', 'sleep', 'cat', 'echo', 'ls', 'true']) symlinkSync('busybox', join(root, 'bin', tool));
  const layerTar = join(dir, 'layer.tar');
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', root, '-cf', layerTar, '.']);
  const layer = readFileSync(layerTar);
  const layerDigest = `sha256:${sha(layer)}`;
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? process.arch;
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Env: ['PATH=/bin'], Cmd: cmd, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
    }),
  );
  const configDigest = `sha256:${sha(config)}`;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = `sha256:${sha(manifest)}`;
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const [d, b] of [
    [layerDigest, layer],
    [configDigest, config],
    [manifestDigest, manifest],
  ] as const) {
    writeFileSync(join(layout, 'blobs', 'sha256', d.slice(7)), b);
  }
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
          platform: { architecture: arch, os: 'linux' },
        },
      ],
    }),
  );
  const archivePath = join(dir, 'image.tar');
  execFileSync('tar', ['-C', layout, '-cf', archivePath, 'oci-layout', 'index.json', 'blobs']);
  return { archive: readFileSync(archivePath), layout, name, manifestDigest, configDigest, layerDigest, manifest };
}
