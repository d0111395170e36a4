// Walks a registry's catalog directly (no proxy): every tag's manifest must resolve and every blob it
// names (config, layers, index children) must exist with the declared size.

/** What a walk found: counts and every dangling reference. */
export interface WalkReport { repositories: number; tags: number; blobs: number; missing: string[] }

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Walks `url` (http, no auth): catalog → tags → manifests → HEAD of each blob. */
export async function walkRegistry(url: string): Promise<WalkReport> {
  const report: WalkReport = { repositories: 0, tags: 0, blobs: 0, missing: [] };
  const cat = (await (await fetch(`${url}/v2/_catalog?n=1000`)).json()) as { repositories?: string[] };
  for (const repo of cat.repositories ?? []) {
    report.repositories++;
    const tags = ((await (await fetch(`${url}/v2/${repo}/tags/list`)).json()) as { tags?: string[] | null }).tags ?? [];
    const seen = new Set<string>();
    const visit = async (ref: string, where: string): Promise<void> => {
      const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
      if (res.status !== 200) {
        await res.body?.cancel();
        report.missing.push(`${repo} ${where}: manifest ${ref} → ${res.status}`);
        return;
      }
      const doc = (await res.json()) as { manifests?: { digest: string }[]; config?: { digest: string; size: number }; layers?: { digest: string; size: number }[] };
      for (const child of doc.manifests ?? []) await visit(child.digest, `${where} → ${child.digest}`);
      for (const b of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
        if (seen.has(b.digest)) continue;
        seen.add(b.digest);
        report.blobs++;
        const h = await fetch(`${url}/v2/${repo}/blobs/${b.digest}`, { method: "HEAD" });
        if (h.status !== 200 || Number(h.headers.get("content-length")) !== b.size)
          report.missing.push(`${repo} ${where}: blob ${b.digest} → ${h.status} (${h.headers.get("content-length")} bytes, ${b.size} declared)`);
      }
    };
    for (const tag of tags) {
      report.tags++;
      await visit(tag, tag);
    }
  }
  return report;
}
