// Registers every application dissector with the engine. Importing this module is what makes
// the engine know the protocols above TCP and UDP; each protocol folder exports a `register`.
import './nbt/register.js';
import './dcerpc/register.js';
import './msrp/register.js';
import './msnp/register.js';
import './smb2/register.js';
