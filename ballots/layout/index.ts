export * from './geometry';
export * from './page';
export * from './engine';
export { textWidth, wrapText, textPathData, loadFont, FONT_FILES } from './fonts';
export { layoutCache } from './cache';
