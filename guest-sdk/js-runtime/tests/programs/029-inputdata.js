console.log(typeof inputData);
console.log(inputData);
console.log(inputData.items.reduce((s, i) => s + i.price * i.qty, 0));
console.log(Notary.input.customer.name, Notary.inputText.length);
console.log(Object.isFrozen(Notary.input), Object.isFrozen(Notary.input.items));
inputData.extra = 1;
console.log(Object.keys(inputData));
