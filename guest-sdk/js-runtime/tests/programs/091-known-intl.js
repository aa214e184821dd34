// KNOWN DIFFERENCE: no Intl object in this runtime.
console.log(typeof Intl);
console.log(new Intl.NumberFormat('de-DE').format(1234.5));
