/** A GET over real HTTP (fetch), with the body read as text and parseable on demand. */
export async function fetchText(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown }
}
