// Written documents (文书) as the server stores them: a complete A4 HTML
// page with its own styles, shown isolated (components/DocumentFrame.vue),
// saved byte for byte, and checked against the SHA-256 the server recorded.

// Saves the stored page, unchanged, as "<文号>.html".
export function saveHtml(number: string, html: string) {
  const blob = new Blob([html], { type: "text/html;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName(number);
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken the blob by then.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// "<文号>.html", with only what no file system takes replaced.
export function fileName(number: string): string {
  return `${number.replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_").trim() || "document"}.html`;
}

// The hex SHA-256 of the page's UTF-8 bytes (what the server hashed), or null
// where the browser offers no digest (an insecure origin).
export async function sha256Hex(html: string): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  const digest = await subtle.digest("SHA-256", new TextEncoder().encode(html));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
