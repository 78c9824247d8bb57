// The API key of this browser tab: in sessionStorage, or in memory where storage is disabled.

const KEY_STORAGE = "sec-digester.api_key";
let memoryKey = "";

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage disabled: the key lives as long as this page */
  }
  memoryKey = key;
}

export const currentKey = () => storedKey() || memoryKey;
