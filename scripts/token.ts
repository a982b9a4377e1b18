/**
 * `npm run token -- <name> <role>[+<role>…]`: a new random API token, and the FIREBREAK_API_TOKENS entry that stores
 * only its SHA-256 hash. The token is printed once; keep it in a secret store.
 */
import { newToken } from '../api/tokens';

const [name, roles] = process.argv.slice(2);
if (!name || !roles) {
  console.error(
    'usage: npm run token -- <name> <role>[+<role>…]   e.g. npm run token -- alice responder+incident-commander',
  );
  process.exit(2);
}
const { token, entry } = newToken(name, roles.split('+'));
console.log(`token (give it to ${name}; it is not stored anywhere): ${token}`);
console.log(`FIREBREAK_API_TOKENS entry (append, comma-separated):    ${entry}`);
