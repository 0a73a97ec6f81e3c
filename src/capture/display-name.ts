// How to show a capture's path to a person when the path given is not the name the user typed:
// a file whose name is not valid UTF-8 is opened once by its raw bytes and read through
// /dev/fd/N (Node's argv strings cannot hold those bytes); its name is then shown escaped.
const names = new Map<string, string>();

export function setDisplayName(path: string, name: string): void {
  names.set(path, name);
}

export function displayName(path: string): string {
  return names.get(path) ?? path;
}
